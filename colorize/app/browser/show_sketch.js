(value) => {
  // the page's CSS covers the editor until it shows a sketch
  document.getElementById("editor")?.setAttribute("data-sketch", "");
  return value;
}
