import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

const api = process.env.DEVTWIN_API ?? 'http://127.0.0.1:4000'

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: '../dist/web', emptyOutDir: true, chunkSizeWarningLimit: 2000 },
  // `npm run web:dev`: the dashboard with hot reload, talking to a running `npm run dev`.
  server: {
    proxy: {
      '/graphql': { target: api, ws: true },
      '/dashboard.json': api,
    },
  },
})
