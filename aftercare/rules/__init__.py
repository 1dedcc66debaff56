"""Business rules as pure functions: data and a clock in, decisions out. No I/O, no Prefect."""
