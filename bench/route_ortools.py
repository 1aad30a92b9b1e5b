"""OR-Tools routing on the benchmark's instances, for `route_bench.py --compare` only.

The same models as the PyVRP side: matrices passed with RegisterTransitMatrix (no Python
callbacks in the search), guided local search until the budget, the same prizes for days.
OR-Tools is not a dependency of Bazres: `.venv/bin/pip install ortools` to run this.
"""

from importlib.metadata import version

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from geo.routing import prizes

SOLVER = f"ortools {version('ortools')}"


def _params(budget: float, first: str = "PATH_CHEAPEST_ARC"):
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy, first)
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(int(budget * 1000))
    return params


def _routes(routing, manager, solution, vehicles: int) -> list[list[int]]:
    routes = []
    for v in range(vehicles):
        index, route = solution.Value(routing.NextVar(routing.Start(v))), []
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = solution.Value(routing.NextVar(index))
        if route:
            routes.append(route)
    return routes


def tsp(matrix: np.ndarray, budget: float, seed: int) -> int:
    manager = pywrapcp.RoutingIndexManager(len(matrix), 1, 0)
    routing = pywrapcp.RoutingModel(manager)
    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitMatrix(matrix.tolist()))
    solution = routing.SolveWithParameters(_params(budget))
    (route,) = _routes(routing, manager, solution, 1)
    tour = [0] + route + [0]
    return int(sum(matrix[a, b] for a, b in zip(tour, tour[1:])))


def vrptw(inst, budget: float, seed: int) -> list[list[int]]:
    from route_bench import vrptw_problem  # the same scaled matrices and fixed cost as PyVRP's

    data = vrptw_problem(inst)
    distance, duration = data.distance_matrix(0), data.duration_matrix(0)
    clients, depot, fleet = data.clients(), data.depot(0), data.vehicle_type(0)
    service = np.array([0] + [c.service_duration for c in clients])
    manager = pywrapcp.RoutingIndexManager(len(distance), fleet.num_available, 0)
    routing = pywrapcp.RoutingModel(manager)
    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitMatrix(distance.tolist()))
    routing.SetFixedCostOfAllVehicles(fleet.fixed_cost)
    times = routing.RegisterTransitMatrix((duration + service[:, None]).tolist())
    routing.AddDimension(times, depot.tw_late, depot.tw_late, False, "Time")
    time_dim = routing.GetDimensionOrDie("Time")
    for i, c in enumerate(clients, start=1):
        time_dim.CumulVar(manager.NodeToIndex(i)).SetRange(c.tw_early, c.tw_late)
    demand = routing.RegisterUnaryTransitVector([0] + [c.delivery[0] for c in clients])
    routing.AddDimensionWithVehicleCapacity(demand, 0, [fleet.capacity[0]] * fleet.num_available, True, "Load")
    solution = routing.SolveWithParameters(_params(budget, "PARALLEL_CHEAPEST_INSERTION"))
    return _routes(routing, manager, solution, fleet.num_available)


def day(travel, visits, budget: float, seed: int, stop_early: bool = True):
    """Guided local search runs to the budget either way: it has no convergence test."""
    n = len(visits) + 1
    metres = travel.metres.copy()
    metres[:, 0] = 0  # open route, as in geo.routing
    service = np.array([0] + [v.service_s for v in visits])
    seconds = travel.seconds + service[:, None]  # a visit's service is paid on leaving it
    seconds[:, 0] = service
    np.fill_diagonal(seconds, 0)
    manager = pywrapcp.RoutingIndexManager(n, 1, 0)
    routing = pywrapcp.RoutingModel(manager)
    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitMatrix(metres.tolist()))
    routing.AddDimension(routing.RegisterTransitMatrix(seconds.tolist()), 86_400, 2 * 86_400, False, "Time")
    time_dim = routing.GetDimensionOrDie("Time")
    time_dim.CumulVar(routing.Start(0)).SetRange(8 * 3600, 8 * 3600)
    prize = prizes([v.tier for v in visits], int(metres[:, 1:].max(axis=0).sum()))
    for i, visit in enumerate(visits):
        index = manager.NodeToIndex(i + 1)
        time_dim.CumulVar(index).SetRange(visit.window[0], visit.window[1] - 1)
        routing.AddDisjunction([index], prize[i])
    solution = routing.SolveWithParameters(_params(budget, "PARALLEL_CHEAPEST_INSERTION"))
    order = [node - 1 for route in _routes(routing, manager, solution, 1) for node in route]
    path = [0] + [i + 1 for i in order]
    return [visits[i].key for i in order], int(sum(travel.metres[a, b] for a, b in zip(path, path[1:])))
