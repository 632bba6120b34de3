"""The live board of active rides (the SOP's "terpantau"): a map and the open alerts,
updated without reloading."""
