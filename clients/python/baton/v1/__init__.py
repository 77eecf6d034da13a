"""Generated protobuf and gRPC stubs of proto/baton/v1 (clients/python/generate.py).

Do not edit: regenerate with `python3 clients/python/generate.py`.
"""
