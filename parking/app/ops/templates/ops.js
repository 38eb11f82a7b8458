// The ops dashboard, live: the server sends the rendered live part on every change (server-sent events).
(function () {
  var live = document.getElementById("live"), conn = document.getElementById("conn");
  var events = new EventSource("/ops/events");
  events.addEventListener("live", function (m) {
    // keep what the user is typing in a form of the live part
    var active = document.activeElement;
    if (active && live.contains(active) && active.tagName === "INPUT" && active.value) { return; }
    live.innerHTML = m.data;
    conn.textContent = "live";
  });
  events.onerror = function () { conn.textContent = "reconnecting…"; };
  events.addEventListener("end", function () { events.close(); window.location = "/ops/login"; });
  setInterval(function () {
    document.querySelectorAll("img[data-lot]").forEach(function (img) {
      img.src = "/ops/charts/" + encodeURIComponent(img.dataset.lot) + ".svg?t=" + Date.now();
    });
  }, 60000);
})();
