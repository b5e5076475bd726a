// What every demo page shares, loaded after the Telegraphy client (on the pages that load
// it): the status line follows the connection (html[data-connection] carries the state for
// the stylesheet and the tests), and live(subscription) marks the page live (html[data-live])
// or says it was refused.
(function () {
  // Shown inside the editor's split view: no header there.
  if (window.top !== window) document.documentElement.classList.add("framed");
  if (!window.Telegraphy) return; // a page that listens to nothing

  var labels = {
    idle: "connecting…", connecting: "connecting…", open: "● connected",
    reconnecting: "reconnecting…", closed: "disconnected"
  };
  function show(state) {
    document.documentElement.dataset.connection = state;
    var status = document.getElementById("status");
    if (status && !status.dataset.refused) status.textContent = labels[state];
  }
  var client = Telegraphy.default;
  client.on("connecting", function () { show("connecting"); });
  client.on("open", function () { show("open"); });
  client.on("reconnecting", function () { show("reconnecting"); });
  client.on("closed", function (info) { show(info.willReconnect ? "reconnecting" : "closed"); });
  document.addEventListener("DOMContentLoaded", function () { show(client.state); });

  window.live = function (subscription) {
    subscription.ready.then(function () {
      document.documentElement.dataset.live = "yes";
    }, function (error) {
      var status = document.getElementById("status");
      status.dataset.refused = "yes";
      status.textContent = "refused: " + error.message;
    });
    return subscription;
  };
})();
