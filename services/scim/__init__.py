"""SCIM 2.0 provisioning (RFC 7643/7644) at /scim/v2: a thin adapter from the SCIM resources of scim2-models to the
Gatehouse services, for identity providers (Entra ID, Okta) holding an API token (services/integrations/tokens.py).

Within the token's scope (its organisation, or its one deployment):
- a **User** is a person who holds a live grant there or has a pending invitation there, or one the provider made
  or deactivated there and has not deleted (records.py); ``id`` is their address (base64url, so it survives
  acceptance), ``emails`` the address, ``userName`` the provider's identifier, ``displayName`` their name once they
  have an account. ``active`` is true while a grant or invitation remains.
- creating a User sends an invitation (services/invitations/service.py) with the role named in ``roles[].value``
  (a role id or its name) or, leniently, ``groups[].value``; with none named, the token's default role; without
  that either, a clear 400: a Gatehouse person is someone holding a role.
- ``active: false`` (PUT, or PATCH in Entra's or Okta's form) and DELETE end every grant of the person there
  (services/organisations/staff.py remove_from_team), delete their pending invitations there, and end their sessions
  at once when nothing else remains. A deactivated User stays (active false) until DELETE forgets it.
- a **Group** is a role available there (``id`` = role id); its members hold it there or are invited to it
  (groups.py: custom roles are made, renamed and deleted over SCIM by the roles service; default roles never).
- An organisation that trusts its identity provider (accounts created ready for single sign-on) belongs to single
  sign-on (issue 21) and is not here: creating a User always sends an invitation.

Every permission is the token's (its creator's met by its own), checked by the services on every call, and every
change is audited as the token.
"""
