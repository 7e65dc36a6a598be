// Draws every figure whose JSON the server put in the page. No inline script is needed:
// <script type="application/json"> holds data, which the Content Security Policy allows.
document.addEventListener("DOMContentLoaded", function () {
  if (typeof Plotly === "undefined") { return; }
  document.querySelectorAll("script[type='application/json'][data-figure]").forEach(function (node) {
    var target = document.getElementById(node.dataset.figure);
    if (!target) { return; }
    var figure = JSON.parse(node.textContent);
    // No mode bar: its styles would need an inline <style>, which the policy forbids.
    Plotly.newPlot(target, figure.data, figure.layout, { displayModeBar: false, responsive: true });
    target.classList.add("chart-drawn");
  });
});
