"""The sync protocol (DESIGN §5): its pure rules, its engine and a reference offline client.

Built under issue 4; the foundation only fixes where it lives.
"""
