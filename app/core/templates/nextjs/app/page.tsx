export default function Home() {
  return (
    <main>
      <h1>Hello from AUTOCREA</h1>
      <p>Describe what you want in the chat and this app will grow.</p>
    </main>
  );
}
