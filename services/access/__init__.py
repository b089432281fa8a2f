"""Access: who may do what (the two rules of PRODUCT.md, Actor and Scope), the catalogue of permissions and
default roles, custom roles, authentication and sessions, secret tokens and rate limits."""
