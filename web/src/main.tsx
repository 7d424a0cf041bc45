import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { resolveGatewayUrl } from "./api/client";
import "./styles.css";

const root = document.getElementById("root");
if (!root) throw new Error("no #root element");

void resolveGatewayUrl().then((gatewayUrl) =>
  createRoot(root).render(
    <StrictMode>
      <App gatewayUrl={gatewayUrl} />
    </StrictMode>,
  ),
);
