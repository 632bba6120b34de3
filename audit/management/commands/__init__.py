"""grant_runtime_role: the runtime database role's rights."""
