%% Erlang/OTP measured the way distribute-bench measures distribute: gen_server:call p50
%% (the caller a process), spawn per process, resident bytes per idle gen_server that has
%% answered one call (in a fresh peer node), cast throughput to one gen_server until a call
%% behind the casts is answered, and global:register_name p50 on a cluster of three nodes on
%% this machine (127.0.0.1 only). Prints name<TAB>value<TAB>unit lines; every figure is the
%% median over rounds.
%%
%% Run by ../run.sh:
%%   erl -sname peers_bench -noshell -pa DIR -kernel inet_dist_use_interface '{127,0,0,1}' \
%%       -run peers_bench main [quick]
-module(peers_bench).
-behaviour(gen_server).

-export([main/0, main/1, idle_memory/1]).
-export([init/1, handle_call/3, handle_cast/2]).

%% Rounds of the three-node figures: fewer than the local ones, as each round registers
%% and unregisters thousands of names at about a millisecond each.
-define(GLOBAL_ROUNDS, 5).
-define(LOOPBACK_ARGS, ["-kernel", "inet_dist_use_interface", "{127,0,0,1}"]).

%% How much a run measures: rounds (each figure's median is taken over them), unmeasured
%% and measured calls per round, casts, spawns, idle processes, registrations per round.
plan(["quick" | _]) -> #{rounds => 5, warmup => 200, samples => 2000, messages => 100000,
                         spawns => 5000, idle => 20000, registrations => 200};
plan(_) -> #{rounds => 9, warmup => 2000, samples => 20000, messages => 1000000,
             spawns => 20000, idle => 100000, registrations => 2000}.

%% `-run peers_bench main` calls main/0; `-run peers_bench main quick` calls main(["quick"]).
main() -> main([]).

main(Args) ->
    Plan = plan(Args),
    try
        local_figures(Plan),
        idle_figures(Plan),
        global_figures(Plan)
    catch Class:Reason:Stack ->
        io:format(standard_error, "peers_bench failed: ~p:~p~n~p~n", [Class, Reason, Stack]),
        halt(1)
    end,
    halt(0).

%% ---- the measured gen_server: sums what it is cast, answers the sum when called ----

init(Sum) -> {ok, Sum}.

handle_call(get, _From, Sum) -> {reply, Sum, Sum}.

handle_cast({push, V}, Sum) -> {noreply, Sum + V}.

%% ---- local figures, in rounds ----

local_figures(Plan) ->
    Rounds = [local_round(Plan) || _ <- lists:seq(1, maps:get(rounds, Plan))],
    Names = [{"erlang.call.p50", "us"},
             {"erlang.raw_send_receive.p50", "us"},
             {"erlang.tell_tput", "msgs/s"},
             {"erlang.spawn_per_process", "us"},
             {"erlang.gen_server_start_per_process", "us"}],
    lists:foreach(
      fun({I, {Name, Unit}}) -> report(Name, median([element(I, R) || R <- Rounds]), Unit) end,
      lists:zip(lists:seq(1, length(Names)), Names)).

local_round(#{warmup := W, samples := S, messages := M, spawns := N}) ->
    {in_process(fun() -> call_p50(W, S) end),
     in_process(fun() -> send_receive_p50(W, S) end),
     in_process(fun() -> tell_tput(M) end),
     in_process(fun() -> spawn_per_process(N) end),
     in_process(fun() -> gen_server_start_per_process(N) end)}.

%% Runs F in a fresh process (the caller of every figure is a process of its own, with a
%% clean mailbox and heap) and returns its result.
in_process(F) ->
    Parent = self(),
    {Pid, Ref} = spawn_monitor(fun() -> Parent ! {self(), F()} end),
    receive
        {Pid, Result} -> erlang:demonitor(Ref, [flush]), Result;
        {'DOWN', Ref, process, Pid, Reason} -> error({figure_failed, Reason})
    end.

call_p50(Warmup, Samples) ->
    {ok, Server} = gen_server:start(?MODULE, 0, []),
    [gen_server:call(Server, get) || _ <- lists:seq(1, Warmup)],
    Times = [timed(fun() -> gen_server:call(Server, get) end) || _ <- lists:seq(1, Samples)],
    gen_server:stop(Server),
    percentile50(Times).

%% Erlang's own floor under a call: a message to a process and its answer, no gen_server.
send_receive_p50(Warmup, Samples) ->
    Echo = spawn_link(fun echo/0),
    Ask = fun() -> Echo ! {self(), ping}, receive {Echo, pong} -> ok end end,
    [Ask() || _ <- lists:seq(1, Warmup)],
    Times = [timed(Ask) || _ <- lists:seq(1, Samples)],
    unlink(Echo),
    exit(Echo, kill),
    percentile50(Times).

echo() ->
    receive {From, ping} -> From ! {self(), pong}, echo() end.

tell_tput(Messages) ->
    {ok, Server} = gen_server:start(?MODULE, 0, []),
    Start = erlang:monotonic_time(nanosecond),
    cast_n(Server, Messages),
    _ = gen_server:call(Server, get, infinity),
    Elapsed = erlang:monotonic_time(nanosecond) - Start,
    gen_server:stop(Server),
    Messages * 1.0e9 / Elapsed.

cast_n(_Server, 0) -> ok;
cast_n(Server, N) -> gen_server:cast(Server, {push, N}), cast_n(Server, N - 1).

spawn_per_process(Count) ->
    Start = erlang:monotonic_time(nanosecond),
    Pids = [spawn(fun idle/0) || _ <- lists:seq(1, Count)],
    Elapsed = erlang:monotonic_time(nanosecond) - Start,
    [exit(P, kill) || P <- Pids],
    Elapsed / 1000 / Count.

idle() ->
    receive stop -> ok end.

gen_server_start_per_process(Count) ->
    Start = erlang:monotonic_time(nanosecond),
    Pids = [begin {ok, P} = gen_server:start(?MODULE, 0, []), P end
            || _ <- lists:seq(1, Count)],
    Elapsed = erlang:monotonic_time(nanosecond) - Start,
    [exit(P, kill) || P <- Pids],
    Elapsed / 1000 / Count.

%% ---- idle memory, in a fresh peer node ----

idle_figures(#{idle := Count}) ->
    {Peer, Node} = start_peer("peers_bench_idle"),
    {Resident, Info} = erpc:call(Node, ?MODULE, idle_memory, [Count], 600000),
    peer:stop(Peer),
    report("erlang.idle_process_bytes", Resident, "bytes"),
    report("erlang.idle_process_info_bytes", Info, "bytes").

%% Runs on the fresh node: Count gen_servers, each called once, then idle. Returns the growth
%% of resident memory per process (less the caller's list of pids, two words a cell) and
%% process_info(P, memory) per process.
idle_memory(Count) ->
    Start = fun() -> {ok, P} = gen_server:start(?MODULE, 0, []), 0 = gen_server:call(P, get), P end,
    Warm = [Start() || _ <- lists:seq(1, 1000)],
    erlang:garbage_collect(),
    Before = resident_bytes(),
    Pids = [Start() || _ <- lists:seq(1, Count)],
    timer:sleep(100),
    Grown = resident_bytes() - Before - Count * 2 * erlang:system_info(wordsize),
    Info = lists:sum([M || P <- Pids, {memory, M} <- [erlang:process_info(P, memory)]]),
    _ = length(Warm),
    {Grown / Count, Info / Count}.

resident_bytes() ->
    {ok, Statm} = file:read_file("/proc/self/statm"),
    [_Size, Resident | _] = binary:split(Statm, <<" ">>, [global]),
    binary_to_integer(Resident) * 4096.

%% ---- three nodes: the distribution's round trip and global:register_name ----

global_figures(#{warmup := Warmup, registrations := Count}) ->
    {Peer1, Node1} = start_peer("peers_bench_a"),
    {Peer2, Node2} = start_peer("peers_bench_b"),
    Nodes = [node(), Node1, Node2],
    wait_for_mesh(Nodes, 1000),
    [ok = erpc:call(N, global, sync, []) || N <- Nodes],
    Rounds = [global_round(R, Nodes, Warmup, Count) || R <- lists:seq(1, ?GLOBAL_ROUNDS)],
    report("erlang.dist_roundtrip.p50", median([element(1, R) || R <- Rounds]), "us"),
    report("erlang.global_register_3nodes.p50", median([element(2, R) || R <- Rounds]), "us"),
    peer:stop(Peer1),
    peer:stop(Peer2).

%% One round of the three-node figures. The cluster must still be whole at its end: global
%% may disconnect nodes (prevent_overlapping_partitions), and a registration on fewer nodes
%% would be cheaper than the one measured here.
global_round(Round, [_, Node1 | _] = Nodes, Warmup, Count) ->
    Rtt = in_process(fun() -> dist_rtt_p50(Node1, Warmup, Count) end),
    Register = in_process(fun() -> register_p50(Round, Warmup div 10, Count) end),
    case mesh_formed(Nodes) of
        true -> {Rtt, Register};
        false -> error({cluster_split_during_round, Round})
    end.

%% Each node connected to both others (global connects the mesh itself); polled every 10 ms.
wait_for_mesh(_Nodes, 0) ->
    error(mesh_not_formed);
wait_for_mesh(Nodes, Tries) ->
    case mesh_formed(Nodes) of
        true -> ok;
        false -> timer:sleep(10), wait_for_mesh(Nodes, Tries - 1)
    end.

mesh_formed(Nodes) ->
    Connected = [length(erpc:call(N, erlang, nodes, [])) || N <- Nodes],
    lists:all(fun(C) -> C >= length(Nodes) - 1 end, Connected).

%% A message to a process on another node and its answer: the floor under anything global does.
dist_rtt_p50(Node, Warmup, Samples) ->
    Echo = spawn(Node, fun echo/0),
    Ask = fun() -> Echo ! {self(), ping}, receive {Echo, pong} -> ok end end,
    [Ask() || _ <- lists:seq(1, Warmup)],
    Times = [timed(Ask) || _ <- lists:seq(1, Samples)],
    exit(Echo, kill),
    percentile50(Times).

%% Fresh names registered one after the other from this node, each for a process of its own
%% (global refuses a second name for a pid); unregistered afterwards, untimed.
register_p50(Round, Warmup, Count) ->
    Indices = lists:seq(-Warmup, -1) ++ lists:seq(1, Count),
    Pids = maps:from_list([{I, spawn(fun idle/0)} || I <- Indices]),
    Register = fun(I) -> yes = global:register_name({?MODULE, Round, I}, maps:get(I, Pids)) end,
    [Register(I) || I <- lists:seq(-Warmup, -1)],
    Times = [timed(fun() -> Register(I) end) || I <- lists:seq(1, Count)],
    [global:unregister_name({?MODULE, Round, I}) || I <- Indices],
    [P ! stop || P <- maps:values(Pids)],
    percentile50(Times).

start_peer(Prefix) ->
    CodeDir = filename:dirname(code:which(?MODULE)),
    {ok, Peer, Node} = peer:start_link(#{name => peer:random_name(Prefix),
                                         args => ["-pa", CodeDir | ?LOOPBACK_ARGS]}),
    {Peer, Node}.

%% ---- helpers ----

timed(F) ->
    Start = erlang:monotonic_time(nanosecond),
    F(),
    erlang:monotonic_time(nanosecond) - Start.

%% The median of nanosecond samples, in microseconds.
percentile50(Times) ->
    lists:nth(length(Times) div 2 + 1, lists:sort(Times)) / 1000.

median(Values) ->
    Sorted = lists:sort(Values),
    N = length(Sorted),
    case N rem 2 of
        1 -> lists:nth(N div 2 + 1, Sorted);
        0 -> (lists:nth(N div 2, Sorted) + lists:nth(N div 2 + 1, Sorted)) / 2
    end.

report(Name, Value, Unit) ->
    io:format("~s\t~.3f\t~s~n", [Name, float(Value), Unit]).
