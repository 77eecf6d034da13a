/// The BatonRPC module.
