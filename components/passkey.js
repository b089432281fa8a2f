// Passkeys (components/passkey.py): the two WebAuthn ceremonies, called through ui.run_javascript. The server's
// options arrive as WebAuthn's JSON (binary fields in base64url) and the answer goes back as JSON: {credential}, or
// {error: the DOMException's name} when the person cancels or the browser refuses, so that the server always hears
// back (a rejected promise would leave it waiting until its time-out).
window.gatehousePasskeys = (() => {
  const toBytes = (text) => {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "===".slice((base64.length + 3) % 4);
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  };
  const toText = (buffer) =>
    btoa(String.fromCharCode(...new Uint8Array(buffer)))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");
  const descriptors = (list) => (list || []).map((d) => ({ ...d, id: toBytes(d.id) }));
  const common = (made) => ({
    id: made.id,
    rawId: toText(made.rawId),
    type: made.type,
    authenticatorAttachment: made.authenticatorAttachment || null,
    clientExtensionResults: made.getClientExtensionResults(),
  });

  async function run(ceremony) {
    if (!window.PublicKeyCredential || !navigator.credentials) return { error: "Unsupported" };
    try {
      return { credential: await ceremony() };
    } catch (error) {
      return { error: (error && error.name) || "Error" };
    }
  }

  return {
    create: (options) =>
      run(async () => {
        const publicKey = {
          ...options,
          challenge: toBytes(options.challenge),
          user: { ...options.user, id: toBytes(options.user.id) },
          excludeCredentials: descriptors(options.excludeCredentials),
        };
        const made = await navigator.credentials.create({ publicKey });
        const response = made.response;
        return {
          ...common(made),
          response: {
            clientDataJSON: toText(response.clientDataJSON),
            attestationObject: toText(response.attestationObject),
            transports: response.getTransports ? response.getTransports() : [],
          },
        };
      }),
    get: (options) =>
      run(async () => {
        const publicKey = {
          ...options,
          challenge: toBytes(options.challenge),
          allowCredentials: descriptors(options.allowCredentials),
        };
        const made = await navigator.credentials.get({ publicKey });
        const response = made.response;
        return {
          ...common(made),
          response: {
            clientDataJSON: toText(response.clientDataJSON),
            authenticatorData: toText(response.authenticatorData),
            signature: toText(response.signature),
            userHandle: response.userHandle ? toText(response.userHandle) : null,
          },
        };
      }),
  };
})();
