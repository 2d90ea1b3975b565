/* Comments embed for news pages, by the comment moderation service. Plain JavaScript, no framework.
 *   <div id="comments"><a href="https://COMMENTS-HOST/embed/comments?article=URL">Comments</a></div>
 *   <script src="https://COMMENTS-HOST/embed.js" data-article="URL-or-slug" async></script>
 * Renders the approved comments and a "Leave a Comment" form inside a shadow root, so the page's
 * styles and ours never meet. Reader text is only ever set with textContent, never as HTML.
 * Posting sends JSON without cookies; the service answers only sites an administrator allowed.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.fetch || !Element.prototype.attachShadow) { return; }
  var host = new URL(script.src).origin;
  var api = host + "/api/v1/comments";
  var CSS = ":host{all:initial;display:block}" +
    ".cm{font:16px/1.5 system-ui,sans-serif;color:#1d1d1f;max-width:48rem}" +
    "h2{font-size:1.25rem;margin:1.2rem 0 .5rem}ol{list-style:none;margin:0;padding:0}" +
    "li{padding:.6rem 0;border-bottom:1px solid #ddd}.meta{color:#666;font-size:.85rem;margin:0}" +
    ".body{white-space:pre-wrap;overflow-wrap:anywhere;margin:.2rem 0 0}" +
    "label{display:block;margin:.6rem 0 .2rem;font-weight:600}" +
    "input,textarea{box-sizing:border-box;width:100%;font:inherit;padding:.4rem;border:1px solid #aaa;border-radius:4px}" +
    "button{font:inherit;margin-top:.8rem;padding:.35rem .9rem;border:1px solid #888;border-radius:4px;background:#fff;cursor:pointer}" +
    ".error{color:#b42318;font-weight:600;margin:.2rem 0}.status{margin:.6rem 0}" +
    ".trap{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}";

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function token() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function reference() {
    var canonical = document.querySelector('link[rel="canonical"]');
    return script.getAttribute("data-article") || (canonical && canonical.href) || location.href.split("#")[0];
  }

  function styled(root) {
    if (root.adoptedStyleSheets !== undefined && window.CSSStyleSheet) {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } else {
      root.appendChild(el("style", {}, CSS));
    }
  }

  function Embed(target) {
    this.article = reference();
    this.page = 1;
    this.root = target.shadowRoot || target.attachShadow({mode: "open"});
    styled(this.root);
    this.box = this.root.appendChild(el("section", {"class": "cm"}));
    this.heading = this.box.appendChild(el("h2", {"class": "count"}, "Comments"));
    this.list = this.box.appendChild(el("ol", {"class": "list"}));
    this.more = el("button", {type: "button", "class": "more"}, "Older comments");
    this.more.addEventListener("click", this.load.bind(this, true));
    this.box.appendChild(this.more).hidden = true;
    this.formArea = this.box.appendChild(el("div", {"class": "leave-comment"}));
  }

  Embed.prototype.load = function (append) {
    var self = this;
    self.page = append ? self.page + 1 : 1;
    var url = api + "?article=" + encodeURIComponent(self.article) + "&page=" + self.page;
    return fetch(url, {credentials: "omit"}).then(function (response) {
      if (response.status === 404) { return {total: 0, pages: 0, comments: [], article: null}; }
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    }).then(function (data) { self.show(data, append); }, function () { self.unavailable(); });
  };

  Embed.prototype.show = function (data, append) {
    var self = this;
    if (!append) { self.list.textContent = ""; self.showForm(data.article); }
    self.heading.textContent = "Latest Comments (" + data.total + ")";
    if (!data.total) { self.list.appendChild(el("li", {"class": "empty"}, "No comments yet. Be the first!")); }
    data.comments.forEach(function (comment) {
      var item = self.list.appendChild(el("li", {"class": "comment", id: "comment-" + comment.id}));
      var meta = item.appendChild(el("p", {"class": "meta"}));
      meta.appendChild(el("strong", {"class": "author"}, comment.author));
      meta.appendChild(document.createTextNode(" "));
      meta.appendChild(el("time", {datetime: comment.created_at}, new Date(comment.created_at).toLocaleString()));
      item.appendChild(el("p", {"class": "body"}, comment.body));
    });
    self.more.hidden = self.page >= data.pages;
  };

  Embed.prototype.unavailable = function () {
    this.heading.textContent = "Comments";
    this.list.textContent = "";
    var item = this.list.appendChild(el("li", {"class": "unavailable"}, "The comments could not be loaded here. "));
    item.appendChild(el("a", {href: host + "/embed/comments?article=" + encodeURIComponent(this.article)},
      "Read and leave comments on the comments page."));
  };

  Embed.prototype.showForm = function (article) {
    this.formArea.textContent = "";
    this.formArea.appendChild(el("h2", {}, "Leave a Comment"));
    if (article && !article.comments_open) {
      this.formArea.appendChild(el("p", {"class": "closed"}, "Comments are closed on this article."));
      return;
    }
    var form = this.formArea.appendChild(el("form", {novalidate: ""}));
    [["author", "Name", "input", {maxlength: "80", autocomplete: "name"}],
     ["email", "Email (optional, never shown)", "input", {type: "email", autocomplete: "email"}],
     ["body", "Comment", "textarea", {rows: "6", maxlength: "5000"}]].forEach(function (spec) {
      var id = "cm-" + spec[0];
      form.appendChild(el("label", {"for": id}, spec[1]));
      var attrs = Object.assign({id: id, name: spec[0]}, spec[3]);
      form.appendChild(el(spec[2], attrs));
      form.appendChild(el("p", {"class": "error", "data-for": spec[0], role: "alert"}));
    });
    var trap = form.appendChild(el("div", {"class": "trap", "aria-hidden": "true"}));
    trap.appendChild(el("label", {"for": "cm-website"}, "Leave this field empty"));
    trap.appendChild(el("input", {id: "cm-website", name: "website", tabindex: "-1", autocomplete: "off"}));
    form.appendChild(el("button", {type: "submit", name: "submit"}, "Post comment"));
    form.appendChild(el("p", {"class": "status", role: "status"}));
    form.submissionToken = token();
    form.addEventListener("submit", this.post.bind(this, form));
  };

  Embed.prototype.post = function (form, event) {
    event.preventDefault();
    var self = this, status = form.querySelector(".status"), button = form.querySelector("button");
    var fields = {article: self.article, title: document.title, submission_token: form.submissionToken};
    ["author", "email", "body", "website"].forEach(function (name) { fields[name] = form.elements[name].value; });
    form.querySelectorAll(".error").forEach(function (node) { node.textContent = ""; });
    button.disabled = true;
    status.textContent = "Sending…";
    fetch(api, {method: "POST", credentials: "omit", headers: {"Content-Type": "application/json"},
                body: JSON.stringify(fields)}).then(function (response) {
      return response.json().then(function (data) { return {status: response.status, data: data}; });
    }).then(function (answer) {
      button.disabled = false;
      if (answer.status === 200 || answer.status === 201) {
        status.textContent = answer.data.message;
        form.elements.body.value = "";
        form.submissionToken = token();
        if (answer.data.comment && answer.data.comment.status === "approved") { self.load(false); }
        return;
      }
      var errors = answer.data.errors || {};
      Object.keys(errors).forEach(function (name) {
        var slot = form.querySelector('.error[data-for="' + name + '"]') || status;
        slot.textContent = errors[name];
      });
      status.textContent = Object.keys(errors).length ? "Please check the fields above." : answer.data.error;
    }).catch(function () {
      button.disabled = false;
      status.textContent = "Your comment could not be sent. Please try again in a moment.";
    });
  };

  function start() {
    var target = document.getElementById(script.getAttribute("data-target") || "comments");
    if (target) { new Embed(target).load(false); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
