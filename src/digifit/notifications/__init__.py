"""The e-mail outbox: messages stored in the database with a unique key, delivered by ``digifit worker``."""
