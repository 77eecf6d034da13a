/// The BatonHTTP2 module.
