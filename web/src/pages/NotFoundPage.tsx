import { Link } from "react-router";

export function NotFoundPage() {
  return (
    <div className="page">
      <div className="state">
        <h1>Page not found</h1>
        <Link to="/">Back to projects</Link>
      </div>
    </div>
  );
}
