/dev/fd/3: line 30: ./sw.sh: No such file or directory
