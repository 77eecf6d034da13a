/// The BatonProto module.
