// Passkeys for the customer account and the staff console: the only script syncd serves (same
// origin, no inline code). A button's data-options / data-verify name its ceremony's endpoints.
"use strict";
(function () {
  const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const bytes = (s) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4)), (c) => c.charCodeAt(0));
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;
  const post = (url, body) => fetch(url, { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf(), "Content-Type": "application/json" }, body: body === undefined ? "" : JSON.stringify(body) });
  const cred = (c) => ({
    id: c.id, rawId: b64(c.rawId), type: c.type,
    response: Object.fromEntries(["clientDataJSON", "attestationObject", "authenticatorData", "signature", "userHandle"]
      .filter((k) => c.response[k]).map((k) => [k, b64(c.response[k])])),
    clientExtensionResults: {},
  });
  const at = (button, name, fallback) => button.dataset[name] || fallback;
  async function register(event) {
    const button = event.currentTarget;
    const options = await (await post(at(button, "options", "/account/passkeys/register/options"))).json();
    options.challenge = bytes(options.challenge);
    options.user.id = bytes(options.user.id);
    options.excludeCredentials = (options.excludeCredentials || []).map((c) => ({ ...c, id: bytes(c.id) }));
    const made = await navigator.credentials.create({ publicKey: options });
    const answer = await post(at(button, "verify", "/account/passkeys/register"), cred(made));
    if (answer.ok) location.reload();
  }
  async function signIn(event) {
    const button = event.currentTarget;
    const options = await (await post(at(button, "options", "/account/passkeys/sign-in/options"))).json();
    options.challenge = bytes(options.challenge);
    options.allowCredentials = (options.allowCredentials || []).map((c) => ({ ...c, id: bytes(c.id) }));
    const got = await navigator.credentials.get({ publicKey: options });
    const answer = await post(at(button, "verify", "/account/passkeys/sign-in"), cred(got));
    const result = await answer.json();
    if (result.ok) location.assign(result.next);
  }
  document.addEventListener("DOMContentLoaded", () => {
    if (!window.PublicKeyCredential) return;
    const add = document.getElementById("passkey-add");
    const sign = document.getElementById("passkey-sign-in");
    if (add) { add.hidden = false; add.addEventListener("click", register); }
    if (sign) { sign.hidden = false; sign.addEventListener("click", signIn); }
  });
})();
