/* memcheck --html: inlined into each page. Optional: the page reads the same without it (leaks come
   largest first). It makes the leak tables' column headers sort on a click, and adds buttons that
   open or close every stack. No fetches (the page's Content-Security-Policy forbids them). */
(function () {
  "use strict";

  function sortable(table) {
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
    heads.forEach(function (th) {
      var key = th.getAttribute("data-sort");
      if (!key) return;
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = th.textContent;
      button.title = "Sort by " + th.textContent.toLowerCase();
      th.textContent = "";
      th.appendChild(button);
      button.addEventListener("click", function () {
        // A first click sorts a count column largest first, "#" in order found.
        var current = th.getAttribute("aria-sort");
        var descending = current ? current === "ascending" : key !== "id";
        heads.forEach(function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", descending ? "descending" : "ascending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = Number(a.getAttribute("data-" + key)), y = Number(b.getAttribute("data-" + key));
          if (x !== y) return descending ? y - x : x - y;
          return Number(a.getAttribute("data-id")) - Number(b.getAttribute("data-id"));
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  }

  function tools() {
    var main = document.getElementById("errors");
    if (!main || !main.querySelector("details")) return;
    var bar = document.createElement("div");
    bar.className = "tools";
    [["Expand all", true], ["Collapse all", false]].forEach(function (spec) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = spec[0];
      button.addEventListener("click", function () {
        Array.prototype.forEach.call(main.querySelectorAll("details"), function (d) { d.open = spec[1]; });
      });
      bar.appendChild(button);
    });
    main.parentNode.insertBefore(bar, main);
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), sortable);
  tools();
})();
