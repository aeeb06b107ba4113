# fuzz/cap: capability fuzz harness
