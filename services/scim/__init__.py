"""SCIM 2.0 provisioning (RFC 7643/7644) at /scim/v2: a thin adapter from the SCIM resources of scim2-models to the
Gatehouse services, for identity providers (Entra ID, Okta) holding an API token (services/integrations/tokens.py).

Within the token's scope (its organisation, or its one deployment):
- a **User** is a person who holds a live grant there or has a pending invitation there; ``id`` is their address
  (base64url, so it survives acceptance), ``userName`` and the one email are the address, ``displayName`` their
  name once they have an account. ``active`` is true while either remains. Nothing else of a User is stored.
- creating a User sends an invitation (services/invitations/service.py) with the role named in ``roles[].value``
  (a role id or its name) or, leniently, ``groups[].value``; a User without a role is refused (400 invalidValue):
  a Gatehouse person is someone holding a role, so there is no role-less account to provision.
- ``active: false`` (PUT, or PATCH in Entra's or Okta's form) and DELETE end every grant of the person there
  (services/organisations/staff.py remove_from_team), delete their pending invitations there, and end their sessions
  at once when nothing else remains. The person is then no User of that scope any more (404 afterwards).
- a **Group** is a role available there (``id`` = role id); its members hold it there or are invited to it.
  Adding a member invites them with that role (members of the organisation get it at once); removing one ends that
  grant. Roles themselves are made in the Care Portal: POST and DELETE on /Groups are refused (501).
- An organisation that trusts its identity provider (accounts created ready for single sign-on) belongs to single
  sign-on (issue 21) and is not here: creating a User always sends an invitation.

Every permission is the token's (its creator's met by its own), checked by the services on every call, and every
change is audited as the token.
"""
