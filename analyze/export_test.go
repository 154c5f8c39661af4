package analyze

// DisableFlowCache makes every packet that a take the general path, for
// tests that compare it with the flow cache.
func DisableFlowCache(a *Analyzer) { a.flows.off = true }
