// Injected by the AUTOCREA preview proxy into HTML pages of a project's
// preview: reports uncaught errors, unhandled rejections and console.error
// calls to the appliance (and to the workspace that frames the preview).
(function () {
  if (window.__autocreaConsole) return;
  window.__autocreaConsole = true;
  var endpoint = "/__autocrea/report";
  // This page load's id: the appliance keeps the errors of the page loaded
  // last, so a late report of the page before a reload is not taken.
  var page = Math.random().toString(36).slice(2) + Date.now().toString(36);
  function send(kind, data) {
    data.kind = kind;
    data.page = page;
    try {
      var body = JSON.stringify(data);
      if (navigator.sendBeacon) {
        navigator.sendBeacon(endpoint, new Blob([body], { type: "application/json" }));
      } else {
        fetch(endpoint, { method: "POST", body: body, headers: { "content-type": "application/json" }, keepalive: true });
      }
      if (window.parent !== window) window.parent.postMessage({ type: "autocrea:console", report: data }, "*");
    } catch (e) {}
  }
  function text(v) {
    try {
      if (typeof v === "string") return v;
      if (v instanceof Error) return v.stack || v.message;
      return JSON.stringify(v);
    } catch (e) {
      return String(v);
    }
  }
  send("load", { url: location.href });
  window.addEventListener("error", function (e) {
    if (!e.message) return; // a failed <img> or <script> load, not an exception
    send("error", {
      message: String(e.message),
      source: e.filename || "",
      line: e.lineno || 0,
      column: e.colno || 0,
      stack: e.error && e.error.stack ? String(e.error.stack).slice(0, 4000) : "",
    });
  });
  window.addEventListener("unhandledrejection", function (e) {
    var r = e.reason;
    send("error", {
      message: "Unhandled promise rejection: " + (r && r.message ? r.message : text(r)),
      stack: r && r.stack ? String(r.stack).slice(0, 4000) : "",
    });
  });
  var original = console.error;
  console.error = function () {
    try {
      send("console", { message: Array.prototype.map.call(arguments, text).join(" ").slice(0, 4000) });
    } catch (e) {}
    return original.apply(console, arguments);
  };
})();
