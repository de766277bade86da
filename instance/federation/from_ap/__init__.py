"""from_ap: parsed remote objects (the `activitypub/` vocab views) to row values for the writers.

Nothing else in the instance reads remote JSON: one module per kind of object.
"""
