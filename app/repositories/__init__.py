"""Database access, one module per aggregate, with the same verbs: get, list, create, update.

Nothing here commits: the calling service owns the transaction.
"""
