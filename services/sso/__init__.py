"""Single sign-on (issue 21 item 2): organisations' OpenID Connect providers (connections), sign-ins through them
(flows: state, nonce and PKCE kept server-side; the ID token checked), accepting invitations and logging in that way
(sign_in), and the provider ending sessions (back-channel logout)."""
