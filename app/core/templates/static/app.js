document.getElementById("greet").addEventListener("click", () => {
  document.getElementById("output").textContent = `Hello! It is ${new Date().toLocaleTimeString()}.`;
});
