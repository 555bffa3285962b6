// The page: no Node, no shared memory, only the stubs the preload exposed.
const log = (text) => {
  const item = document.createElement("li");
  item.textContent = text;
  document.getElementById("log").append(item);
};
const name = () => document.getElementById("name").value;

document.getElementById("hello").addEventListener("click", async () => {
  const started = performance.now();
  try {
    const reply = await window.greeter.sayHello({ name: name() });
    log(`${reply.message} (${((performance.now() - started) * 1000).toFixed(0)} µs)`);
  } catch (error) {
    log(String(error));
  }
});

document.getElementById("stream").addEventListener("click", async () => {
  try {
    await window.greeter.streamGreetings({ name: name(), count: 5 }, (g) => log(`#${g.sequence} ${g.message}`));
  } catch (error) {
    log(String(error));
  }
});
