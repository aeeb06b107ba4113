# tests/unit: fragment (owned by the unit-test work)
