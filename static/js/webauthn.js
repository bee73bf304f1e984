// Passkeys (WebAuthn): the browser's side of registering one and of signing in with one.
// A form marked data-webauthn="create" or "get" carries the server's options as JSON in
// data-webauthn-options. On submit the ceremony runs, the credential goes into the form's
// hidden field "credential" as JSON (binary fields base64url) and the form is sent.
(function () {
  "use strict";

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) { base64 += "="; }
    var raw = window.atob(base64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) { bytes[i] = raw.charCodeAt(i); }
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i += 1) { raw += String.fromCharCode(bytes[i]); }
    return window.btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      var copy = Object.assign({}, item);
      copy.id = toBytes(item.id);
      return copy;
    });
  }

  function creationOptions(json) {
    var options = JSON.parse(json);
    options.challenge = toBytes(options.challenge);
    options.user = Object.assign({}, options.user, { id: toBytes(options.user.id) });
    options.excludeCredentials = descriptors(options.excludeCredentials);
    return options;
  }

  function requestOptions(json) {
    var options = JSON.parse(json);
    options.challenge = toBytes(options.challenge);
    options.allowCredentials = descriptors(options.allowCredentials);
    return options;
  }

  function credentialJSON(credential) {
    var response = credential.response;
    var out = {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults ?
        credential.getClientExtensionResults() : {},
      response: { clientDataJSON: toText(response.clientDataJSON) }
    };
    if (credential.authenticatorAttachment) {
      out.authenticatorAttachment = credential.authenticatorAttachment;
    }
    if (response.attestationObject) {
      out.response.attestationObject = toText(response.attestationObject);
      if (response.getTransports) { out.response.transports = response.getTransports(); }
    }
    if (response.authenticatorData) {
      out.response.authenticatorData = toText(response.authenticatorData);
      out.response.signature = toText(response.signature);
      if (response.userHandle) { out.response.userHandle = toText(response.userHandle); }
    }
    return JSON.stringify(out);
  }

  function setUp(form) {
    var status = form.querySelector("[data-webauthn-status]");
    var unsupported = form.querySelector("[data-webauthn-unsupported]");
    if (!window.PublicKeyCredential || !navigator.credentials || !window.isSecureContext) {
      if (unsupported) { unsupported.hidden = false; }
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.disabled = true;
      });
      return;
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (form.hasAttribute("data-sending")) { return; }
      if (status) { status.hidden = true; }
      var json = form.getAttribute("data-webauthn-options");
      var ceremony = form.getAttribute("data-webauthn") === "create" ?
        navigator.credentials.create({ publicKey: creationOptions(json) }) :
        navigator.credentials.get({ publicKey: requestOptions(json) });
      form.setAttribute("data-sending", "");
      ceremony.then(function (credential) {
        form.querySelector("input[name=credential]").value = credentialJSON(credential);
        form.submit();
      }).catch(function () {
        form.removeAttribute("data-sending");
        if (status) { status.hidden = false; }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-webauthn]").forEach(setUp);
  });
})();
