# tests/cap: capability unit tests
