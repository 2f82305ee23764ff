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

// "Traiter un fichier de demandes": upload with a progress bar, then a download link; errors in
// French next to the file. Without this script the form posts normally and the server answers.
(function () {
  "use strict";
  var form = document.getElementById("traitement");
  if (!form || !window.XMLHttpRequest || !window.FormData) { return; }
  var input = document.getElementById("fichier");
  var drop = document.getElementById("depot");
  var errors = document.getElementById("fichier-erreurs");
  var progress = document.getElementById("progression");
  var bar = document.getElementById("barre");
  var state = document.getElementById("etat");
  var download = document.getElementById("telechargement");
  var link = document.getElementById("telecharger");
  var button = document.getElementById("traiter");

  function showErrors(messages) {
    var list = errors.querySelector("ul");
    list.textContent = "";
    messages.forEach(function (m) {
      var item = document.createElement("li");
      item.textContent = m;
      list.appendChild(item);
    });
    errors.hidden = false;
    input.setAttribute("aria-invalid", "true");
    errors.setAttribute("tabindex", "-1");
    errors.focus();
  }

  ["dragenter", "dragover"].forEach(function (name) {
    drop.addEventListener(name, function (event) { event.preventDefault(); drop.classList.add("over"); });
  });
  drop.addEventListener("dragleave", function () { drop.classList.remove("over"); });
  drop.addEventListener("drop", function (event) {
    event.preventDefault();
    drop.classList.remove("over");
    if (event.dataTransfer && event.dataTransfer.files.length) { input.files = event.dataTransfer.files; }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    errors.hidden = true;
    download.hidden = true;
    input.removeAttribute("aria-invalid");
    if (!input.files.length) {
      showErrors(["Choisissez un fichier de demandes (.xlsx, .csv ou .jsonl)."]);
      return;
    }
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("action"));
    xhr.setRequestHeader("Accept", "application/json, application/octet-stream");
    xhr.responseType = "blob";
    progress.hidden = false;
    bar.value = 0;
    state.textContent = "Envoi du fichier…";
    button.disabled = true;
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        bar.value = Math.round(100 * e.loaded / e.total);
        state.textContent = "Envoi du fichier : " + bar.value + " %";
      }
    });
    xhr.upload.addEventListener("load", function () {
      bar.removeAttribute("value");  // indeterminate while the server matches the requests
      state.textContent = "Recherche des experts pour chaque demande…";
    });
    xhr.addEventListener("load", function () {
      button.disabled = false;
      progress.hidden = true;
      if (xhr.status === 200) {
        var disposition = xhr.getResponseHeader("Content-Disposition") || "";
        var found = /filename="([^"]+)"/.exec(disposition);
        if (link.href.indexOf("blob:") === 0) { URL.revokeObjectURL(link.href); }
        link.href = URL.createObjectURL(xhr.response);
        link.setAttribute("download", found ? found[1] : "expe-ct-resultats");
        link.textContent = "Télécharger les résultats (" + (found && /\.csv$/.test(found[1]) ? "CSV" : "classeur Excel") + ")";
        download.hidden = false;
        state.textContent = "";
        link.focus();
        return;
      }
      if (xhr.status === 413) {
        showErrors(["Le fichier dépasse la taille maximale acceptée (10 Mo)."]);
        return;
      }
      xhr.response.text().then(function (body) {
        var messages;
        try { messages = JSON.parse(body).erreurs; } catch (err) { messages = null; }
        showErrors(messages && messages.length ? messages : ["Le fichier n'a pas pu être traité (erreur " + xhr.status + ")."]);
      });
    });
    xhr.addEventListener("error", function () {
      button.disabled = false;
      progress.hidden = true;
      showErrors(["Le serveur ne répond pas : vérifiez la connexion, puis réessayez."]);
    });
    xhr.send(new FormData(form));
  });
})();
