"""Projects and their workflow definitions."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from stepstone.api.auth import AdminUser, CurrentUser
from stepstone.api.schemas import ProjectCreate, ProjectUpdate, error_responses
from stepstone.errors import InvalidInput
from stepstone.services import projects as services
from stepstone.store.records import DefinitionList, Project

router = APIRouter(prefix="/projects")
NOT_FOUND = error_responses(404)


@router.get("", response_model=list[Project])
def list_projects(request: Request, _user: CurrentUser) -> list[Project]:
    """Every registered project."""
    return services.list_projects(request.app.state.db)


@router.post("", response_model=Project, status_code=201, responses=error_responses(400, 403))
def create_project(body: ProjectCreate, request: Request, user: AdminUser) -> Project:
    """Register a directory as a project and discover its workflows (admins only: the
    server imports and runs the code under it)."""
    return services.add_project(
        request.app.state.db,
        body.path,
        name=body.name,
        user_id=user["id"],
        max_concurrent_runs=body.max_concurrent_runs,
    )


@router.get("/{project_id}", response_model=Project, responses=NOT_FOUND)
def get_project(project_id: str, request: Request, _user: CurrentUser) -> Project:
    """One project."""
    return services.get_project_by_id(request.app.state.db, project_id)


@router.patch("/{project_id}", response_model=Project, responses=error_responses(400, 403, 404))
def update_project(
    project_id: str, body: ProjectUpdate, request: Request, _user: AdminUser
) -> Project:
    """Rename a project or change its limit of runs at once (admins only); a field left out
    stays as it is."""
    changes = body.model_dump(include=body.model_fields_set)
    if changes.get("name", "") is None:
        raise InvalidInput("a project needs a name")
    return services.update_project(request.app.state.db, project_id, **changes)


@router.delete("/{project_id}", status_code=204, responses=error_responses(403, 404, 409))
def delete_project(project_id: str, request: Request, _user: AdminUser) -> Response:
    """Forget a project, its definitions and runs (its directory is left alone; admins
    only)."""
    services.delete_project(
        request.app.state.db, project_id, artifacts_dir=request.app.state.artifacts_dir
    )
    return Response(status_code=204)


@router.get(
    "/{project_id}/workflow-definitions", response_model=DefinitionList, responses=NOT_FOUND
)
def list_workflow_definitions(
    project_id: str, request: Request, _user: CurrentUser
) -> DefinitionList:
    """The project's workflows, with the files that failed to load, as last discovered."""
    db = request.app.state.db
    project = services.get_project_by_id(db, project_id)
    return services.list_definitions(db, project["id"], sync="never")


@router.post(
    "/{project_id}/workflow-definitions/resync", response_model=DefinitionList, responses=NOT_FOUND
)
def resync_workflow_definitions(
    project_id: str, request: Request, _user: CurrentUser
) -> DefinitionList:
    """Import the definition files again now."""
    db = request.app.state.db
    project = services.get_project_by_id(db, project_id)
    return services.list_definitions(db, project["id"], sync="always")
