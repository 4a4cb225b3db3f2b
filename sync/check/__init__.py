"""Connect through written connection strings and classify what goes wrong (`neon-sync check`)."""
