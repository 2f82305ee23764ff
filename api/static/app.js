// EXPE-CT Match staff page: character counter, Ctrl+Entrée to search, focus on results.
(function () {
  "use strict";
  var text = document.getElementById("texte");
  var counter = document.getElementById("compteur");
  if (text && counter) {
    var max = parseInt(text.getAttribute("data-max"), 10) || 20000;
    var fmt = new Intl.NumberFormat("fr-FR");
    var update = function () {
      var n = text.value.length;
      counter.textContent = n ? fmt.format(n) + " caractères saisis" + (n > max ? " : c'est trop long." : ".") : "";
      counter.classList.toggle("over", n > max);
    };
    text.addEventListener("input", update);
    update();
    text.addEventListener("keydown", function (event) {
      if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
        event.preventDefault();
        document.getElementById("recherche").requestSubmit();
      }
    });
  }
  var target = document.getElementById("erreurs") || document.getElementById("resultats-titre");
  if (target) {
    if (!target.hasAttribute("tabindex")) { target.setAttribute("tabindex", "-1"); }
    target.focus();
  }
})();
