"""The durable store: models, migrations, sessions and the queries on them."""
