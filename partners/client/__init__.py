"""The portal's side of the Transport Partner API contract (docs/partner-api.yaml).

- `contract`: the contract's types and how the portal reads a partner's answers.
- `errors`: what can go wrong in a call, as the contract's error table says.
- `answers`: an HTTP answer read into the call's result or its error.
- `http`: `PartnerClient`, one account's calls (timeouts, headers, the gates below).
- `tokens`: the account's OAuth token, shared by every process.
- `ratelimit`: the account's request budget; `budget_wait(account, share)` for pacing.
- `breaker`: the account's circuit breaker.
- `store`: the shared Redis connection and each account's key prefix.
- `registry`: `client_for`, `breaker_episode`, `breaker_state`, `forget_partner_state`.
"""
