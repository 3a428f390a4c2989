/* Search snippets without raw TeX.
 *
 * Sphinx's search (searchtools.js) quotes a snippet of each hit from the page's
 * HTML, where the maths is still TeX source ("\(\bar Z_{nhwc}\)") because
 * MathJax typesets it only in the browser. Before Sphinx cuts its snippet, this
 * replaces every maths element of the fetched page by a plain-text reading of
 * it ("Z̄_nhwc"). Jupyter Book adds every *.js in _static/ to every page; the
 * patch is installed wherever Sphinx's Search object exists.
 */
(function () {
  "use strict";
  const SYMBOLS = {
    alpha: "α", beta: "β", gamma: "γ", delta: "δ", Delta: "Δ", varepsilon: "ε", epsilon: "ϵ",
    eta: "η", lambda: "λ", mu: "μ", nu: "ν", rho: "ρ", sigma: "σ", tau: "τ", theta: "θ",
    phi: "φ", Phi: "Φ", ell: "ℓ", partial: "∂", sum: "Σ", prod: "Π", star: "⋆", ast: "∗",
    times: "×", cdot: "·", odot: "⊙", le: "≤", leq: "≤", ge: "≥", geq: "≥", ne: "≠", neq: "≠",
    approx: "≈", lesssim: "≲", infty: "∞", to: "→", rightarrow: "→", leftarrow: "←",
    mapsto: "↦", in: "∈", dots: "…", ldots: "…", cdots: "⋯", pm: "±", top: "⊤", lfloor: "⌊",
    rfloor: "⌋", lceil: "⌈", rceil: "⌉", langle: "⟨", rangle: "⟩", lvert: "|", rvert: "|",
    lVert: "‖", rVert: "‖", mid: "|", quad: " ", qquad: " ", sqrt: "√", nabla: "∇", bmod: "mod",
    max: "max", min: "min", log: "log", exp: "exp", tanh: "tanh", sinh: "sinh", cosh: "cosh",
  };
  const ACCENTS = [["tilde|widetilde", "\u0303"], ["bar|overline", "\u0304"], ["hat|widehat", "\u0302"]];

  function plain(tex) {
    let s = tex.replace(/\\\\(\[[^\]]*\])?/g, "; ");     // line breaks first: \\[6pt] is not \[
    s = s.replace(/\\[()[\]]/g, " ");                       // the delimiters \( \) \[ \]
    s = s.replace(/\\(?:text|textbf|operatorname|mathrm|mathbf|mathsf|mathit)\s*\{([^{}]*)\}/g, "$1");
    s = s.replace(/\\mathbb\s*\{1\}/g, "𝟙");
    for (const [names, mark] of ACCENTS) {
      const accent = new RegExp("\\\\(?:" + names + ")\\s*(?:\\{([^{}]*)\\}|([A-Za-z]))", "g");
      s = s.replace(accent, (m, group, letter) => (group || letter) + mark);
    }
    s = s.replace(/\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}/g, "($1)/($2)");
    s = s.replace(/\\[dt]?frac\s*(\d)(\d)/g, "$1/$2");          // \tfrac12
    s = s.replace(/\\(?:begin|end)\s*\{[^{}]*\}/g, " ");
    s = s.replace(/\\([A-Za-z]+)/g, (m, name) => (name in SYMBOLS ? SYMBOLS[name] : ""));
    s = s.replace(/\\[,;:! ]/g, " ").replace(/\\([{}$%&_#|])/g, "$1").replace(/&/g, " ");
    return s.replace(/[{}]/g, "").replace(/\s+/g, " ").trim();
  }

  function install() {
    if (typeof Search === "undefined" || !Search.htmlToText || Search.plainMaths) return;
    const htmlToText = Search.htmlToText;
    Search.htmlToText = (htmlString, anchor) => {
      const doc = new DOMParser().parseFromString(htmlString, "text/html");
      doc.querySelectorAll(".math").forEach((el) => {
        const eqno = el.querySelector(".eqno");             // a display's number, "(4.2)#"
        const number = eqno ? eqno.textContent.replace("#", "").trim() : "";
        if (eqno) eqno.remove();
        el.textContent = " " + plain(el.textContent) + (number ? " " + number : "") + " ";
      });
      return htmlToText(doc.documentElement.outerHTML, anchor);
    };
    Search.plainMaths = plain;
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", install);
  } else {
    install();
  }
})();
