"""The portal's side of the Transport Partner API contract (docs/partner-api.yaml).

- `contract`: the contract's types and how the portal reads a partner's answers.
"""
