"""Federation glue: maps rows to ActivityPub and back, applies inbox activities, delivers."""
