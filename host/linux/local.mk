# host/linux: fragment of the top-level Makefile.am
