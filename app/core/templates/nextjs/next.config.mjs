/** @type {import('next').NextConfig} */
const nextConfig = {
  // In the sandbox the dependencies live in /node_modules, outside the
  // project folder (/workspace): Turbopack resolves within its root.
  turbopack: { root: "/" },
};
export default nextConfig;
