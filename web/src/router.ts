/** The console's three places, in the URL's hash so that a static server can serve the console anywhere:
 * `#/` the queue, `#/new` a new application, `#/applications/<id>` one application. */
import { useEffect, useState } from "react";

export type Route =
  | { page: "queue" }
  | { page: "new" }
  | { page: "detail"; name: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, "");
  if (path === "/new") return { page: "new" };
  const detail = /^\/applications\/([A-Za-z0-9-]+)$/.exec(path);
  if (detail) return { page: "detail", name: `applications/${detail[1]}` };
  return { page: "queue" };
}

export function hrefOf(route: Route): string {
  switch (route.page) {
    case "new":
      return "#/new";
    case "detail":
      return `#/${route.name}`;
    default:
      return "#/";
  }
}

export function navigate(route: Route): void {
  window.location.hash = hrefOf(route);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return route;
}
