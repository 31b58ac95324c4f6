"""The station's database: tables, the engine, and the migrations that create them."""
