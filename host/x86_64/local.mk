# host/x86_64: fragment of the top-level Makefile.am
