# drivers-sim: fragment of the top-level Makefile.am
