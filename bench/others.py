"""The routing solvers we measure ourselves against, on the same integer data (tenths).

OR-Tools routing with guided local search and PyVRP (hybrid genetic search) each get the
instance as integers: arc lengths truncated to tenths, windows and service times times ten, so
every solver optimises exactly the distances the table reports. They return routes only; the
bench computes distance and feasibility itself (bench.vrptw).
"""
from __future__ import annotations

import numpy as np

from bench.vrptw import Vrptw


def ortools_routes(instance: Vrptw, time_limit: float, seed: int = 0) -> list[list[int]]:
    """OR-Tools routing: parallel-cheapest-insertion start, guided local search until the time limit.

    The insertion start copes with tight windows, where path-cheapest-arc found no first solution
    at all (r101 in 60 s, 2026-11-30).

    OR-Tools' routing search takes no seed; ``seed`` is accepted so every solver is called alike.
    """
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    nodes = instance.customers + 1
    manager = pywrapcp.RoutingIndexManager(nodes, instance.vehicles, 0)
    routing = pywrapcp.RoutingModel(manager)
    arc = instance.arc.tolist()
    distance = routing.RegisterTransitMatrix(arc)
    routing.SetArcCostEvaluatorOfAllVehicles(distance)
    # time from leaving node i's start of service to reaching j: its service, then the arc
    travel_time = [[int(instance.service[i]) + arc[i][j] for j in range(nodes)] for i in range(nodes)]
    horizon = int(instance.due[0])
    routing.AddDimension(routing.RegisterTransitMatrix(travel_time), horizon, horizon, False, "Time")
    clock = routing.GetDimensionOrDie("Time")
    for node in range(1, nodes):
        clock.CumulVar(manager.NodeToIndex(node)).SetRange(int(instance.ready[node]), int(instance.due[node]))
    for vehicle in range(instance.vehicles):
        clock.CumulVar(routing.Start(vehicle)).SetRange(int(instance.ready[0]), horizon)
        clock.CumulVar(routing.End(vehicle)).SetRange(int(instance.ready[0]), horizon)
    load = routing.RegisterUnaryTransitVector([int(d) for d in instance.demand])
    routing.AddDimensionWithVehicleCapacity(load, 0, [instance.capacity] * instance.vehicles, True, "Load")

    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    parameters.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    parameters.time_limit.FromMilliseconds(int(time_limit * 1000))
    solution = routing.SolveWithParameters(parameters)
    if solution is None:
        return []
    routes = []
    for vehicle in range(instance.vehicles):
        index, route = solution.Value(routing.NextVar(routing.Start(vehicle))), []
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = solution.Value(routing.NextVar(index))
        if route:
            routes.append(route)
    return routes


def pyvrp_routes(instance: Vrptw, time_limit: float, seed: int = 0) -> list[list[int]]:
    """PyVRP's hybrid genetic search until the time limit; routes of its best solution."""
    from pyvrp import Model
    from pyvrp.stop import MaxRuntime

    model = Model()
    places = [model.add_location(x=0, y=0, name=str(node)) for node in range(instance.customers + 1)]
    depot = model.add_depot(places[0], tw_early=int(instance.ready[0]), tw_late=int(instance.due[0]))
    model.add_vehicle_type(
        num_available=instance.vehicles,
        capacity=instance.capacity,
        start_depot=depot,
        end_depot=depot,
        tw_early=int(instance.ready[0]),
        tw_late=int(instance.due[0]),
    )
    for node in range(1, instance.customers + 1):
        model.add_client(
            places[node],
            delivery=int(instance.demand[node]),
            service_duration=int(instance.service[node]),
            tw_early=int(instance.ready[node]),
            tw_late=int(instance.due[node]),
        )
    for i, origin in enumerate(places):
        for j, destination in enumerate(places):
            length = int(instance.arc[i, j])
            model.add_edge(origin, destination, distance=length, duration=length)
    result = model.solve(MaxRuntime(time_limit), seed=seed, display=False)
    # a client activity's idx counts clients from 0, in the order they were added: customer - 1
    return [[activity.idx + 1 for activity in route if activity.is_client()] for route in result.best.routes()]


SOLVERS = {"OR-Tools": ortools_routes, "PyVRP": pyvrp_routes}


def check_numbering(instance: Vrptw, routes: list[list[int]]) -> None:
    """Raises when a solver's route names something other than customers 1..n."""
    flat = np.array([c for r in routes for c in r], dtype=int)
    if flat.size and (flat.min() < 1 or flat.max() > instance.customers):
        raise ValueError(f"{instance.name}: routes name nodes outside 1..{instance.customers}")
